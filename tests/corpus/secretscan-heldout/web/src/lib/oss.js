'use strict';
const OSS = require('ali-oss');

const client = new OSS({ region: 'oss-cn-hangzhou', accessKeyId: 'LTAI743AzKaQ6dHt2vtXNEKn', accessKeySecret: 'hFYgSsXXWzm1imXiY6TAWrg8FewY7y', bucket: 'web-uploads' });

async function put(name, file) {
  const result = await client.put(name, file);
  return result.url;
}

module.exports = { put };
