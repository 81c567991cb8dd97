//! The laboratory: receipt, blind codes, licence checks, test results and reports.
