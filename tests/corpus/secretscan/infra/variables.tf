variable "access_key" {
  description = "AccessKeyId, e.g. LTAI... (set TF_VAR_access_key)"
  type        = string
  sensitive   = true
}

variable "secret_key" {
  type      = string
  sensitive = true
}
