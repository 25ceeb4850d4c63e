//! TODO(owner): memory
