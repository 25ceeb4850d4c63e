//! TODO(owner): lint
