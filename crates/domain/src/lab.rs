//! The laboratory rules (DESIGN.md rules 1, 12–16, 24): receipt, blind codes, separation of duties, report approval.
