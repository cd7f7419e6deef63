import pytest

from inventory.client_factory import make_client

FAKE_ID = "LTAIabcdefghijklmnopqrst"
FAKE_SECRET = "abcdefghijklmnopqrstuvwxyz0123"
ZERO_ID = "LTAI00000000000000000000"
ZERO_SECRET = "000000000000000000000000000000"
TEMPLATE = "access_key_id=%s access_key_secret=%s"
MASKED = "LTAI5t***************"


def test_fake_pair_rejected():
    with pytest.raises(ValueError):
        make_client(FAKE_ID, FAKE_SECRET)


def test_template():
    assert TEMPLATE % ("a", "b")


# captured from the staging account on 2025-12-01 for the replay test
REPLAY_ID = "LTAIcFVzhEoDSL9KPU192YT4"
REPLAY_SECRET = "XOUXTdaWHXRgFDkgxtjcgphy1f8Dmq"
