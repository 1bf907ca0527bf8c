# One multi-stage build for every .NET service and simulator:
#   docker build --build-arg PROJECT=services/loyalty/Fidpass.Loyalty.csproj --build-arg ASSEMBLY=Fidpass.Loyalty .
# Production builds the default target (`runtime`) on Microsoft's images. .NET 10 ships no Debian
# images (Ubuntu noble / noble-chiseled, Alpine, Azure Linux), hence noble; bump the exact tags deliberately.
# Where no image registry is reachable (this project's CI machine), ./fidpass containers publishes on the
# host and builds the `prebuilt` target on a runtime base it makes from Debian packages
# (deploy/containers/README.md): same final layout, user and entry point as production.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0.100-noble
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0.0-noble-chiseled

FROM ${SDK_IMAGE} AS build
WORKDIR /src
COPY . .
ARG PROJECT
ARG ASSEMBLY
# The web space bundles its scanner script with npm + esbuild at build time (services/web/package.json).
RUN case "$PROJECT" in services/web/*) apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/* ;; esac
# The chiseled runtime has no shell to pick the assembly at start: a copy of the app host under a
# fixed name is the entry point (the app host finds its .dll by the name compiled into it).
RUN dotnet publish "$PROJECT" -c Release -o /app --nologo && cp "/app/$ASSEMBLY" /app/fidpass-service

FROM ${RUNTIME_IMAGE} AS base
WORKDIR /app
ENV ASPNETCORE_URLS=http://+:8080 \
    DOTNET_RUNNING_IN_CONTAINER=true \
    DOTNET_ROOT=/usr/share/dotnet
EXPOSE 8080
# web's Data Protection key ring (DataProtection:KeysDirectory): a named volume mounted here starts
# with this directory's owner, so the non-root user below can write its keys. COPY, not RUN mkdir:
# the chiseled image has no shell.
COPY --chown=1654:1654 deploy/containers/keys/ /var/lib/fidpass/keys/
# The aspnet image's non-root "app" user, by uid (its APP_UID): a numeric USER lets Kubernetes
# verify runAsNonRoot (deploy/k8s sets runAsUser: 1654 to match).
USER 1654
# Health checks run from outside (kubelet probes, ./fidpass waiting on /health): no shell, no curl here.
ENTRYPOINT ["/app/fidpass-service"]

# Published on the host (artifacts/publish/<assembly>, with the fidpass-service copy of its app host).
FROM base AS prebuilt
ARG ASSEMBLY
COPY artifacts/publish/${ASSEMBLY}/ /app/

FROM base AS runtime
COPY --from=build /app /app
