# One Route53 zone with a record per cluster: the names external-dns and
# ingress use, and the TXT record that pins each cluster's external-dns
# owner id (clusters sharing a zone must never share an owner id).

provider "route53" {
  # The AWS credential chain and region are used; tests point `endpoint`
  # (or AWS_ENDPOINT_URL) at a local moto server.
  max_requests_per_second = 5
}

variable "domain" {
  type    = string
  default = "fleet.example.com"
}

variable "clusters" {
  type = map(object({
    ingress_ip = string
  }))
  default = {
    mgmt    = { ingress_ip = "192.0.2.10" }
    prod-eu = { ingress_ip = "192.0.2.20" }
    prod-us = { ingress_ip = "192.0.2.30" }
  }
}

resource "route53_zone" "fleet" {
  name          = var.domain
  comment       = "Managed by posture"
  force_destroy = true
}

resource "route53_record" "ingress" {
  for_each = var.clusters
  zone_id  = route53_zone.fleet.id
  name     = "*.${each.key}.${var.domain}"
  type     = "A"
  ttl      = 300
  records  = [each.value.ingress_ip]
}

resource "route53_record" "owner" {
  for_each = var.clusters
  zone_id  = route53_zone.fleet.id
  name     = "_posture-owner.${each.key}.${var.domain}"
  type     = "TXT"
  ttl      = 300
  records  = ["external-dns-owner=posture-${each.key}"]
}

output "name_servers" {
  value = route53_zone.fleet.name_servers
}
