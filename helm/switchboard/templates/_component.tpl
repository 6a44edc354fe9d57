{{/*
The objects every component has, called from <component>-*.yaml with
(dict "root" $ "name" "<component>"). The gateway serves HTTP (pages, API, WebSocket, /metrics)
on one port and is probed with GET /healthz; the services serve gRPC (probed with the
native grpc probe against tonic-health) and /metrics on a second port.
*/}}

{{- define "switchboard.deployment" -}}
{{- $root := .root }}
{{- $meta := include "switchboard.meta" . | fromYaml }}
{{- $v := index $root.Values $meta.key }}
{{- $isGateway := eq .name "gateway" }}
{{- $probePort := ternary "http" "grpc" $isGateway }}
{{- $metricsPort := ternary $v.service.port $v.service.metricsPort $isGateway }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "switchboard.componentName" . }}
  labels:
    {{- include "switchboard.labels" . | nindent 4 }}
spec:
  {{- if not $v.hpa.enabled }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "switchboard.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "switchboard.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/version: {{ include "switchboard.imageTag" $root | quote }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        # Roll the pods when the shared settings (or the chart-created Secret) change.
        checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
        {{- if not $root.Values.existingSecret }}
        checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
        {{- end }}
        {{- if $root.Values.metrics.podAnnotations }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ $metricsPort | quote }}
        prometheus.io/path: /metrics
        {{- end }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.serviceAccountName }}
      serviceAccountName: {{ . }}
      {{- end }}
      automountServiceAccountToken: {{ $root.Values.automountServiceAccountToken }}
      terminationGracePeriodSeconds: {{ $root.Values.terminationGracePeriodSeconds }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .name }}
          image: {{ include "switchboard.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: [{{ $meta.command | quote }}]
          envFrom:
            - configMapRef:
                name: {{ include "switchboard.configMapName" $root }}
          env:
            {{- if $isGateway }}
            - name: SWITCHBOARD_HTTP_ADDR
              value: "0.0.0.0:{{ $v.service.port }}"
            {{- else }}
            - name: SWITCHBOARD_GRPC_ADDR
              value: "0.0.0.0:{{ $v.service.grpcPort }}"
            - name: SWITCHBOARD_METRICS_ADDR
              value: "0.0.0.0:{{ $v.service.metricsPort }}"
            # The migration Job applies migrations before the pods change.
            - name: SWITCHBOARD_MIGRATE_ON_START
              value: {{ not $root.Values.migrations.enabled | quote }}
            {{- include "switchboard.secretEnv" (dict "root" $root "env" "SWITCHBOARD_DATABASE_URL" "key" $root.Values.secretKeys.databaseUrl) | nindent 12 }}
            {{- end }}
            {{- include "switchboard.secretEnv" (dict "root" $root "env" "SWITCHBOARD_NATS_URL" "key" $root.Values.secretKeys.natsUrl) | nindent 12 }}
            {{- if eq .name "agent-management" }}
            {{- include "switchboard.secretEnv" (dict "root" $root "env" "SWITCHBOARD_BOOTSTRAP_PASSWORD" "key" $root.Values.secretKeys.bootstrapPassword "optional" true) | nindent 12 }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          ports:
            {{- if $isGateway }}
            - name: http
              containerPort: {{ $v.service.port }}
              protocol: TCP
            {{- else }}
            - name: grpc
              containerPort: {{ $v.service.grpcPort }}
              protocol: TCP
            - name: metrics
              containerPort: {{ $v.service.metricsPort }}
              protocol: TCP
            {{- end }}
          {{- range $kind := list "startup" "readiness" "liveness" }}
          {{ $kind }}Probe:
            {{- if $isGateway }}
            httpGet:
              path: /healthz
              port: http
            {{- else }}
            grpc:
              # tonic-health's overall "" entry: SERVING while the database and NATS answer.
              port: {{ $v.service.grpcPort }}
            {{- end }}
            {{- toYaml (index $v.probes $kind) | nindent 12 }}
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        # The root filesystem is read-only; the services keep no files (PostgreSQL holds state).
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
      {{- with $root.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $root.Values.topologySpread.enabled }}
      # Replicas of one component on different nodes where possible.
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: {{ $root.Values.topologySpread.topologyKey }}
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "switchboard.selectorLabels" . | nindent 14 }}
      {{- end }}
{{- end }}

{{- define "switchboard.service" -}}
{{- $root := .root }}
{{- $meta := include "switchboard.meta" . | fromYaml }}
{{- $v := index $root.Values $meta.key }}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "switchboard.componentName" . }}
  labels:
    {{- include "switchboard.labels" . | nindent 4 }}
  {{- with $v.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $v.service.type }}
  selector:
    {{- include "switchboard.selectorLabels" . | nindent 4 }}
  ports:
    {{- if eq .name "gateway" }}
    - name: http
      port: {{ $v.service.port }}
      targetPort: http
      protocol: TCP
    {{- else }}
    - name: grpc
      port: {{ $v.service.grpcPort }}
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
    - name: metrics
      port: {{ $v.service.metricsPort }}
      targetPort: metrics
      protocol: TCP
    {{- end }}
{{- end }}

{{- define "switchboard.pdb" -}}
{{- $root := .root }}
{{- $meta := include "switchboard.meta" . | fromYaml }}
{{- $v := index $root.Values $meta.key }}
{{- if $v.pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "switchboard.componentName" . }}
  labels:
    {{- include "switchboard.labels" . | nindent 4 }}
spec:
  {{- if hasKey $v.pdb "minAvailable" }}
  minAvailable: {{ $v.pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $v.pdb.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "switchboard.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{- define "switchboard.hpa" -}}
{{- $root := .root }}
{{- $meta := include "switchboard.meta" . | fromYaml }}
{{- $v := index $root.Values $meta.key }}
{{- if $v.hpa.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "switchboard.componentName" . }}
  labels:
    {{- include "switchboard.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "switchboard.componentName" . }}
  minReplicas: {{ $v.hpa.minReplicas }}
  maxReplicas: {{ $v.hpa.maxReplicas }}
  metrics:
    {{- with $v.hpa.targetCPUUtilizationPercentage }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ . }}
    {{- end }}
    {{- with $v.hpa.metrics }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $v.hpa.behavior }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
