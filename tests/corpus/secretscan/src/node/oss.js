const OSS = require('ali-oss');

const client = new OSS({
  region: 'oss-cn-hangzhou',
  accessKeyId: 'LTAIX4fjEPMTOG2oN7cDf5aX',
  accessKeySecret: 'GjRRvx23XoQEU2vJBmYs5kUTZVSJ2B',
  bucket: 'acme-web',
});

module.exports = client;
