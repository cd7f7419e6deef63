import oss2

# old key, replaced by the RAM role -- still works though
# auth = oss2.Auth("LTAITd1ALu7SSjqhcG5iCVW2", "1PF6x1l5euKyq1o3ugsRTUdcimQaYr")
auth = oss2.ProviderAuth(oss2.credentials.EcsRamRoleCredentialsProvider())
