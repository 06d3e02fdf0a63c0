//! Back ends of the machine spec language.
