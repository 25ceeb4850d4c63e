//! TODO(owner): model
