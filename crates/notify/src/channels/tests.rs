//! Channel tests against real peers (filled below).
