//! Persists the mapping state in Redis in the reference application's layout.
