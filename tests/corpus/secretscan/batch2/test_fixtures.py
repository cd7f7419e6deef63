# fake credentials for the unit tests, they were never issued
ACCESS_KEY_ID = "LTAI5tNVVZnSNrXMVegzZeZ7"
ACCESS_KEY_SECRET = "tw7AIasMRwA1n0T9Z9jpd3Dl6Q6mn4"
