//! Browser tests of the console pages.
