public interface AccessKeyStore {
    String getAccessKeyIdForCurrentUserAndRegion();
    String resolveAccessKeySecretFromVaultPath();
    // LTAI is the prefix Alibaba uses for AccessKey ids.
    String LTAI_PREFIX = "LTAI";
    String accessKeySecretRotationPolicyName = "RotateEveryNinetyDaysForProdUsers";
}
