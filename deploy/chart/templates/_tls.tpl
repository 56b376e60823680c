{{/*
TLS (tls.*). The Secret (existing, or cert-manager's) is mounted read-only at /tls, the
CA of an external leader (follower.externalLeader.tls.existingSecret) at /leader-tls.
Secret volumes follow rotation, and the server rereads changed files itself.
*/}}
{{- define "tile38.tlsSecretName" -}}
{{- if .Values.tls.existingSecret }}{{ .Values.tls.existingSecret }}
{{- else }}{{ include "tile38.fullname" . }}-tls{{ end }}
{{- end }}

{{/* The port clients of the release use: the TLS port when TLS is on. */}}
{{- define "tile38.clientPort" -}}
{{- if .Values.tls.enabled }}{{ .Values.tls.port }}{{ else }}{{ .Values.server.port }}{{ end }}
{{- end }}

{{/* Non-empty when the plain port (server.port) is served. */}}
{{- define "tile38.plainPort" -}}
{{- if or (not .Values.tls.enabled) .Values.tls.plainPort }}true{{ end }}
{{- end }}

{{/* The name of the port clients use (Services, Ingress, NetworkPolicy, probes). */}}
{{- define "tile38.clientPortName" -}}
{{- if .Values.tls.enabled }}tile38-tls{{ else }}tile38{{ end }}
{{- end }}

{{/* The client ports of a pod or Service: a YAML list of (name, port). */}}
{{- define "tile38.portList" -}}
{{- if include "tile38.plainPort" . }}
- name: tile38
  port: {{ .Values.server.port }}
{{- end }}
{{- if .Values.tls.enabled }}
- name: tile38-tls
  port: {{ .Values.tls.port }}
{{- end }}
{{- end }}

{{/* Client certificate arguments of tile38-cli for mutual TLS (JSON list). */}}
{{- define "tile38.mtlsArgs" -}}
{{- if eq (toString .Values.tls.authClients) "yes" }}["--cert","/tls/tls.crt","--key","/tls/tls.key"]
{{- else }}[]{{ end }}
{{- end }}

{{/*
TLS arguments of tile38-cli (JSON list): (dict "ctx" $ "probe" bool "external" bool).
Probes dial 127.0.0.1 in the pod itself and do not verify the certificate (kubelet's own
https probes do not either): a certificate without the pod's loopback name must not
restart pods. Other clients verify with ca.crt; an external leader's certificate is
verified with its CA, unless leader-tls-server-name says its name differs from the address
(tile38-cli has no option for the name to verify).
*/}}
{{- define "tile38.cliTlsArgs" -}}
{{- $v := .ctx.Values }}
{{- $args := list }}
{{- if .external }}
{{- $t := $v.follower.externalLeader.tls }}
{{- if $t.enabled }}
{{- $args = list "--tls" }}
{{- if $t.serverName }}{{ $args = append $args "--insecure" }}
{{- else if $t.existingSecret }}{{ $args = concat $args (list "--cacert" (printf "/leader-tls/%s" $t.caKey)) }}{{ end }}
{{- if and $t.existingSecret $t.clientCertificate }}
{{- $args = concat $args (list "--cert" "/leader-tls/tls.crt" "--key" "/leader-tls/tls.key") }}
{{- end }}
{{- end }}
{{- else if $v.tls.enabled }}
{{- $args = ternary (list "--tls" "--insecure") (list "--cacert" "/tls/ca.crt") (default false .probe) }}
{{- $args = concat $args (include "tile38.mtlsArgs" .ctx | fromJsonArray) }}
{{- end }}
{{- toJson $args }}
{{- end }}

{{/* --follow and the leader-tls flags of a follower (YAML list). */}}
{{- define "tile38.followArgs" -}}
{{- $v := .Values }}
{{- $t := $v.follower.externalLeader.tls }}
- --follow
- {{ include "tile38.leaderAddress" . | quote }}
{{- if and (include "tile38.leaderEnabled" .) $v.tls.enabled }}
{{- include "tile38.ownLeaderTlsArgs" . }}
{{- else if and (not (include "tile38.leaderEnabled" .)) $t.enabled }}
- --leader-tls
- "yes"
{{- if $t.existingSecret }}
- --leader-tls-ca-cert-file
- {{ printf "/leader-tls/%s" $t.caKey | quote }}
{{- if $t.clientCertificate }}
- --leader-tls-cert-file
- /leader-tls/tls.crt
- --leader-tls-key-file
- /leader-tls/tls.key
{{- end }}
{{- end }}
{{- with $t.serverName }}
- --leader-tls-server-name
- {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The leader-tls flags for a leader of this release (its certificate is the pods' own, signed
by the same CA; with mutual TLS a follower presents it too). Fixed followers and, with
failover.enabled, every member (each may follow any other).
*/}}
{{- define "tile38.ownLeaderTlsArgs" -}}
{{- if .Values.tls.enabled }}
- --leader-tls
- "yes"
- --leader-tls-ca-cert-file
- /tls/ca.crt
{{- if eq (toString .Values.tls.authClients) "yes" }}
- --leader-tls-cert-file
- /tls/tls.crt
- --leader-tls-key-file
- /tls/tls.key
{{- end }}
{{- end }}
{{- end }}

{{/* Volumes of the TLS Secrets: (dict "ctx" $ "leaderTls" bool). */}}
{{- define "tile38.tlsVolumes" -}}
{{- $v := .ctx.Values }}
{{- if $v.tls.enabled }}
- name: tls
  secret:
    secretName: {{ include "tile38.tlsSecretName" .ctx }}
    defaultMode: 0440
{{- end }}
{{- if and .leaderTls $v.follower.externalLeader.tls.existingSecret (not (include "tile38.leaderEnabled" .ctx)) }}
- name: leader-tls
  secret:
    secretName: {{ $v.follower.externalLeader.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end }}

{{- define "tile38.tlsVolumeMounts" -}}
{{- $v := .ctx.Values }}
{{- if $v.tls.enabled }}
- name: tls
  mountPath: /tls
  readOnly: true
{{- end }}
{{- if and .leaderTls $v.follower.externalLeader.tls.existingSecret (not (include "tile38.leaderEnabled" .ctx)) }}
- name: leader-tls
  mountPath: /leader-tls
  readOnly: true
{{- end }}
{{- end }}

{{/*
A Service or pod host for helm test clients: (dict "ctx" $ "name" n). With TLS the full
name (<name>.<namespace>.svc.<clusterDomain>), which the certificate carries.
*/}}
{{- define "tile38.serviceHost" -}}
{{- if .ctx.Values.tls.enabled }}
{{- printf "%s.%s.svc.%s" .name .ctx.Release.Namespace .ctx.Values.clusterDomain }}
{{- else }}{{ .name }}{{ end }}
{{- end }}
