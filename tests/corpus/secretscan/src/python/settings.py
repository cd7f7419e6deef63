import os

DEBUG = False
SECRET_KEY = 'bn2ZXyneXmyYEKAFlJIb6lcsNSr8N0'
ALLOWED_HOSTS = ['api.acme.cn']
ALIBABA_CLOUD = {
    'access_key_id': os.environ['ALIBABA_CLOUD_ACCESS_KEY_ID'],
    'access_key_secret': os.environ['ALIBABA_CLOUD_ACCESS_KEY_SECRET'],
}
CACHE_VERSION = '7366dd206d3bf7932df2a58568d4bb98455f1c99'
