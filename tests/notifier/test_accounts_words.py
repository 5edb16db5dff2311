"""The account errors the pages translate by value name the rules' real constants."""
from notifier import accounts


def test_the_fixed_sentences_match_the_constants():
    assert str(accounts.MIN_PASSWORD_LENGTH) in accounts.PASSWORD_TOO_SHORT
    assert accounts.ROLE_UNKNOWN == f"Role must be one of: {', '.join(accounts.ROLES)}."
