<?php
return [
    'aliyun' => [
        'accessKeyId' => 'LTAI9L86y8GebqKGIaIBGdnR',
        'accessKeySecret' => 'dVsWWuKQKS39pLozyCSpVdMZty8d1T',
        'regionId' => 'cn-hangzhou',
    ],
    'app_key' => 'base64:wRuzGXi7DOzeRd9JEYM3Xx00nRzpPmIuSSSsMar1==',
];
