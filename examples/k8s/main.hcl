# The same posture on three clusters: a namespace, the containerd registry
# mirror settings as a ConfigMap, a CRD and a custom resource of it (in one
# run), and a Deployment posture waits for. Run against `posture sandbox`
# (scripts/demo.sh does), or any clusters in your kubeconfig.

variable "kubeconfig" {
  type        = string
  description = "Path of the kubeconfig with one context per cluster."
}

cluster "fleet" {
  for_each   = { mgmt = "mgmt", prod-eu = "prod", prod-us = "prod" }
  kubeconfig = var.kubeconfig
  context    = each.key
  labels     = { env = each.value }
}

resource "kubernetes_manifest" "namespace" {
  for_each = cluster.fleet
  cluster  = each.value
  manifest = {
    apiVersion = "v1"
    kind       = "Namespace"
    metadata   = { name = "posture-system" }
  }
}

resource "kubernetes_manifest" "registry_mirror" {
  for_each = cluster.fleet
  cluster  = each.value
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata = {
      name      = "registry-mirror"
      namespace = kubernetes_manifest.namespace[each.key].manifest.metadata.name
    }
    data = {
      "hosts.toml" = <<-EOT
        server = "https://registry-1.docker.io"
        [host."https://mirror.${each.key}.example.com"]
          capabilities = ["pull", "resolve"]
      EOT
    }
  }
}

resource "kubernetes_manifest" "mirror_crd" {
  for_each = { for k, c in cluster.fleet : k => c if c.labels.env == "prod" }
  cluster  = each.value
  manifest = yamldecode(file("${path.module}/mirror-crd.yaml"))
}

resource "kubernetes_manifest" "mirror" {
  for_each = { for k, c in cluster.fleet : k => c if c.labels.env == "prod" }
  cluster  = each.value
  manifest = {
    apiVersion = "posture.dev/v1"
    kind       = "RegistryMirror"
    metadata   = { name = "docker-hub", namespace = "posture-system" }
    spec       = { upstream = "docker.io", endpoint = "https://mirror.${each.key}.example.com" }
  }
  depends_on = [kubernetes_manifest.mirror_crd, kubernetes_manifest.namespace]
}

resource "kubernetes_manifest" "agent" {
  for_each = cluster.fleet
  cluster  = each.value
  manifest = {
    apiVersion = "apps/v1"
    kind       = "Deployment"
    metadata   = { name = "mirror-agent", namespace = "posture-system" }
    spec = {
      replicas = 2
      selector = { matchLabels = { app = "mirror-agent" } }
      template = {
        metadata = { labels = { app = "mirror-agent" } }
        spec     = { containers = [{ name = "agent", image = "registry.example.com/mirror-agent:1.0" }] }
      }
    }
  }
  wait {
    rollout = true
  }
  depends_on = [kubernetes_manifest.namespace]
}
