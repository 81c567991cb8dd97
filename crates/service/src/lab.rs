//! The laboratory: receipt, blind coding, separation of duties, licence check, test results with judgement and the three-person report.
