# A fleet of clusters declared once: each cluster gets an external-dns owner
# id and a DNS name. Until the Kubernetes and Route53 providers land, the
# built-in posture_data resource stands in for the real objects.

posture {
  required_version = ">= 0.1"
}

variable "domain" {
  type        = string
  default     = "example.com"
  description = "The Route53 zone every cluster's records live in."
}

variable "clusters" {
  description = "The clusters of the fleet, by name."
  type = map(object({
    region = string
    env    = string
    nodes  = optional(number, 3)
  }))
}

locals {
  prod = { for name, c in var.clusters : name => c if c.env == "prod" }
}

module "cluster" {
  source   = "./modules/cluster"
  for_each = var.clusters

  name   = each.key
  region = each.value.region
  domain = var.domain
}

resource "posture_data" "route_reflectors" {
  # Past ~100 nodes Calico's full mesh stops scaling: reflectors on big clusters only.
  for_each = { for name, c in var.clusters : name => c if c.nodes > 20 }
  input = {
    cluster  = each.key
    replicas = 3
  }
}

output "owner_ids" {
  description = "external-dns --txt-owner-id per cluster: one owner per cluster, never shared."
  value       = { for name, m in module.cluster : name => m.owner_id }
}

output "prod_clusters" {
  value = sort(keys(local.prod))
}
