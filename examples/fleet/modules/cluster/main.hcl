variable "name" {
  type = string
  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.name))
    error_message = "Cluster names are DNS labels: lowercase letters, digits and dashes."
  }
}

variable "region" {
  type = string
}

variable "domain" {
  type = string
}

locals {
  fqdn = "${var.name}.${var.domain}"
}

resource "posture_data" "external_dns" {
  input = {
    txt_owner_id  = "posture-${var.name}"
    domain_filter = var.domain
    policy        = "sync"
  }
}

output "owner_id" {
  value = posture_data.external_dns.input.txt_owner_id
}

output "fqdn" {
  value = local.fqdn
}
