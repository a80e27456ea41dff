//! Browser tests of the kiosk pages.
