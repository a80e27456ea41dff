//! Browser tests of the display pages.
