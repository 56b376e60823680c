{{/*
One scrape endpoint (ServiceMonitor endpoint or PodMonitor podMetricsEndpoint):
(dict "ctx" $ "m" monitorValues). The pod's role label becomes `role` on every series, so
alerts and the dashboard can tell the leader from the followers.
*/}}
{{- define "tile38.scrapeEndpoint" -}}
- port: metrics
  path: /metrics
  interval: {{ .m.interval }}
  scrapeTimeout: {{ .m.scrapeTimeout }}
  relabelings:
    - sourceLabels: [__meta_kubernetes_pod_label_app_kubernetes_io_component]
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
