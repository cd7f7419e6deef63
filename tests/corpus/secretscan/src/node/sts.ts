import Sts from '@alicloud/sts20150401';

export function temporaryClient() {
  // credentials pasted from the console while debugging
  const credentials = { accessKeyId: 'STS.3mxkGDIGHOz1AEKYjynUMezQH', accessKeySecret: 'Ot1YwCZpZ8l8U32iY6CvQAZm7v0kv3vtJzcjSgxP8jvq', securityToken: 'CAIStzfB4l4Ma/CS1Nb/mE9R5jOl6aE2hPKG3sIRKuARQugwExZ5KMApN59oV1o3HAxshpw8HngqmbBW8MqjTcJiOprJe+QNX+tsAKg5VcttXDbzgsckVtBc0NDGOTYZnAoKH/d5F/NtEmaR6DFXENWFS6Bl2RJhX28kjw4j9x+qIXtw3Npp2zBUEbvAchzRoVXqrJJH3utt==' };
  return new Sts({ ...credentials, endpoint: 'sts.aliyuncs.com' });
}
