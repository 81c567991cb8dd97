//! Hand-over after sampling: requests to keep the backup portion at the enterprise and their decisions.
