<?php
// OSS settings for the old upload page
define('OSS_ACCESS_ID', 'LTAIT41Z5X5pvMWuQPVbkwJk');
define('OSS_ACCESS_KEY', 'Eg5hfvc9lnKSWbmTQ1S2i0GHmVN6Fq');
define('OSS_ENDPOINT', 'oss-cn-beijing.aliyuncs.com');
define('OSS_BUCKET', 'legacy-uploads');

$config['csrf_token_salt'] = 'GNLrsQ0jBdUMHwY5EX8HqwH2kvaryp';
$config['db'] = [
    'host' => 'localhost',
    'user' => 'legacy',
    'pass' => getenv('LEGACY_DB_PASS'),
];
