# Example credentials for the tutorial (not real):
# access_key_id = "LTAI5tdMvLEavnrqaPQVHWgB"
# access_key_secret = "ukc4d2DAslejQ1m3tL5TMkMY8x9Kt9"
import os

ACCESS_KEY_ID = os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"]
ACCESS_KEY_SECRET = os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
