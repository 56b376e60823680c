{{/*
One scrape endpoint (ServiceMonitor endpoint or PodMonitor podMetricsEndpoint):
(dict "ctx" $ "m" monitorValues). The pod's role label becomes `role` on every series, so
alerts and the dashboard can tell the leader from the followers (with failover.enabled the
label the elected server sets, tile38.io/role).
*/}}
{{- define "tile38.scrapeEndpoint" -}}
- port: metrics
  path: /metrics
  {{- if .ctx.Values.metrics.tls }}
  {{- $secret := include "tile38.tlsSecretName" .ctx }}
  {{- $fn := include "tile38.fullname" .ctx }}
  scheme: https
  tlsConfig:
    serverName: {{ printf "%s-%s.%s.svc" $fn (ternary "leader" "follower" (not (not (include "tile38.leaderEnabled" .ctx)))) .ctx.Release.Namespace }}
    ca:
      secret:
        name: {{ $secret }}
        key: ca.crt
    {{- if eq (toString .ctx.Values.tls.authClients) "yes" }}
    cert:
      secret:
        name: {{ $secret }}
        key: tls.crt
    keySecret:
      name: {{ $secret }}
      key: tls.key
    {{- end }}
  {{- end }}
  interval: {{ .m.interval }}
  scrapeTimeout: {{ .m.scrapeTimeout }}
  relabelings:
    - sourceLabels: [{{ ternary "__meta_kubernetes_pod_label_tile38_io_role" "__meta_kubernetes_pod_label_app_kubernetes_io_component" .ctx.Values.failover.enabled }}]
      targetLabel: role
    {{- with .m.relabelings }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .m.metricRelabelings }}
  metricRelabelings:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{- define "tile38.monitorMeta" -}}
metadata:
  name: {{ include "tile38.fullname" .ctx }}
  namespace: {{ default .ctx.Release.Namespace .m.namespace }}
  labels:
    {{- include "tile38.labels" .ctx | trim | nindent 4 }}
    {{- with .m.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
