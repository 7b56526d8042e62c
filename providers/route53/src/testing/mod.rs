//! Test support: a fault-injecting proxy in front of moto, and moto itself.
