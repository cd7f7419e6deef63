import unittest

# Fixtures from the public signature documentation: not credentials.
ACCESS_KEY_ID = 'testid'
ACCESS_KEY_SECRET = 'testsecret'
EXPECTED = 'kRA2cnpJVacIhDMzXnoNZG9tDCI='
NONCE = '231f6ebc-5ce9-4945-a210-882fc40ab742'


class SigningTest(unittest.TestCase):
    def test_vector(self):
        self.assertEqual(sign(ACCESS_KEY_ID, ACCESS_KEY_SECRET, NONCE), EXPECTED)
