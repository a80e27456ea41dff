//! Text analytics of free-text answers: language, sentiment and topic tags.
