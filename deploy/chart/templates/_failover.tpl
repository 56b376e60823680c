{{/*
failover.enabled (README "Automatic failover"): one StatefulSet `<fullname>-server` whose
members elect the leader through the Lease `<fullname>-leader` (the server's
`--elect kubernetes://NAMESPACE/LEASE`). The holder leads; the others follow the address it
advertised, `<pod>.<fullname>-server-headless.<namespace>.svc.<clusterDomain>:<port>`. Each
server labels its own pod `tile38.io/role` (leader|follower) and `tile38.io/caught-up`
("true" on a follower within its max lag), which the client Services select.
*/}}

{{- define "tile38.failoverLease" -}}
{{ include "tile38.fullname" . }}-leader
{{- end }}

{{- define "tile38.failoverStatefulSet" -}}
{{ include "tile38.fullname" . }}-server
{{- end }}

{{/* Fails when failover is combined with the fixed topology. */}}
{{- define "tile38.failoverChecks" -}}
{{- if .Values.failover.enabled }}
{{- if .Values.follower.externalLeader.host }}
{{- fail "failover.enabled elects a leader among the release's own members; it cannot follow follower.externalLeader.host (unset one of them)" }}
{{- end }}
{{- if gt (int .Values.follower.replicaCount) 0 }}
{{- fail "failover.enabled replaces the fixed leader and followers with failover.replicas members: set follower.replicaCount=0" }}
{{- end }}
{{- if .Values.leader.existingClaim }}
{{- fail "leader.existingClaim is the fixed leader's volume; with failover.enabled every member has its own claim (unset leader.existingClaim)" }}
{{- end }}
{{- end }}
{{- end }}

{{/* --elect, --advertise, the timings and the leader-tls flags of a member (YAML list). */}}
{{- define "tile38.electArgs" -}}
{{- $f := .Values.failover }}
{{- $fn := include "tile38.fullname" . }}
- --elect
- {{ printf "kubernetes://%s/%s" .Release.Namespace (include "tile38.failoverLease" .) | quote }}
- --advertise
- {{ printf "$(POD_NAME).%s-server-headless.%s.svc.%s:%s" $fn .Release.Namespace .Values.clusterDomain (include "tile38.clientPort" .) | quote }}
- --failover-lease-duration
- {{ $f.leaseDurationSeconds | quote }}
- --failover-max-lag
- {{ int64 $f.maxLag | quote }}
{{- include "tile38.ownLeaderTlsArgs" . }}
{{- end }}

{{/* The pod's own name and namespace (downward API): --advertise and the label patches. */}}
{{- define "tile38.electEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end }}

{{/* `config` with the failover settings over it (YAML map). */}}
{{- define "tile38.electConfig" -}}
{{- $f := .Values.failover }}
{{- $set := dict "min-followers-to-write" (toString (int64 $f.minFollowersToWrite)) "min-followers-max-lag" (toString (int64 $f.minFollowersMaxLag)) }}
{{- toYaml (merge $set .Values.config) }}
{{- end }}

{{/*
Checkov waivers of a server StatefulSet: (dict "ctx" $ "role" role). A failover member
mounts its service-account token: the elector renews the Lease and labels its own pod with it
(the Role allows nothing else).
*/}}
{{- define "tile38.workloadWaivers" -}}
{{ include "tile38.secretEnvWaiver" .ctx }}
{{- if eq .role "server" }}
checkov.io/skip2: CKV_K8S_38=the failover elector calls the Kubernetes API (its Lease and its own pod's labels, nothing else; Role {{ include "tile38.fullname" .ctx }}-elector)
{{- end }}
{{- end }}
