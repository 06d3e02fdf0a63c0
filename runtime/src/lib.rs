//! The MeerkatMachine runtime.
