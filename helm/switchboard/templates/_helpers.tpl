{{/*
Names, labels and per-component lookups. Component templates are called with
(dict "root" $ "name" "<component>"), where <component> is one of the names in
"switchboard.components".
*/}}

{{- define "switchboard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped prefix of every object name. */}}
{{- define "switchboard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "switchboard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The components: Kubernetes name -> values block and `switchboard` subcommand.
*/}}
{{- define "switchboard.components" -}}
gateway: { key: gateway, command: gateway }
routing: { key: routing, command: routing }
conversation-history: { key: conversationHistory, command: history }
agent-management: { key: agentManagement, command: agents }
integrations: { key: integrations, command: integrations }
{{- end }}

{{/* The metadata (key, command) of component .name, as YAML. */}}
{{- define "switchboard.meta" -}}
{{- $all := include "switchboard.components" .root | fromYaml }}
{{- if not (hasKey $all .name) }}
{{- fail (printf "unknown component %q" .name) }}
{{- end }}
{{- toYaml (get $all .name) }}
{{- end }}

{{/* The values block of component .name, as YAML. */}}
{{- define "switchboard.values" -}}
{{- $meta := include "switchboard.meta" . | fromYaml }}
{{- toYaml (index .root.Values $meta.key) }}
{{- end }}

{{/* Object name of component .name: <fullname>-<component>. */}}
{{- define "switchboard.componentName" -}}
{{- printf "%s-%s" (include "switchboard.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object of component .name. */}}
{{- define "switchboard.labels" -}}
helm.sh/chart: {{ include "switchboard.chart" .root }}
{{ include "switchboard.selectorLabels" . }}
app.kubernetes.io/version: {{ include "switchboard.imageTag" .root | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: switchboard
{{- end }}

{{/* Selector labels of component .name (immutable: never add to them). */}}
{{- define "switchboard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchboard.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* Labels of release-wide objects (ConfigMap, Secret, migration Job). */}}
{{- define "switchboard.commonLabels" -}}
helm.sh/chart: {{ include "switchboard.chart" . }}
app.kubernetes.io/name: {{ include "switchboard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ include "switchboard.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: switchboard
{{- end }}

{{- define "switchboard.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "switchboard.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "switchboard.imageTag" .) }}
{{- end }}

{{- define "switchboard.configMapName" -}}
{{- printf "%s-config" (include "switchboard.fullname" .) }}
{{- end }}

{{/* The Secret with the database and NATS URLs: existingSecret, or the chart's own. */}}
{{- define "switchboard.secretName" -}}
{{- .Values.existingSecret | default (printf "%s-urls" (include "switchboard.fullname" .)) }}
{{- end }}

{{/* gRPC URL of component .name (a service), as the gateway and routing call it. */}}
{{- define "switchboard.grpcUrl" -}}
{{- $v := include "switchboard.values" . | fromYaml }}
{{- printf "http://%s:%v" (include "switchboard.componentName" .) $v.service.grpcPort }}
{{- end }}

{{/* Environment variable from a key of the URL Secret. */}}
{{- define "switchboard.secretEnv" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ include "switchboard.secretName" .root }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}

{{/* Fails the render on settings that cannot work together. */}}
{{- define "switchboard.validate" -}}
{{- if not .Values.existingSecret }}
{{- if not .Values.postgres.url }}
{{- fail "set existingSecret, or postgres.url for the chart-created Secret" }}
{{- end }}
{{- if not .Values.nats.url }}
{{- fail "set existingSecret, or nats.url for the chart-created Secret" }}
{{- end }}
{{- end }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int .Values.config.shutdownGraceSecs) }}
{{- fail "terminationGracePeriodSeconds must exceed config.shutdownGraceSecs, or pods are killed mid-drain" }}
{{- end }}
{{- end }}
