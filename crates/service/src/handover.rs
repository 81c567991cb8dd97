//! Hand-over after sampling: backup kept at the enterprise (bureau approval), dispatch to the testing institution, entry deadlines (rule 16), forms and costs (rule 21).
