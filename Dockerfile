# One multi-stage build for every .NET service: docker build --build-arg PROJECT=services/loyalty/Fidpass.Loyalty.csproj
# Base images are pinned to exact tags; bump them deliberately.
FROM mcr.microsoft.com/dotnet/sdk:10.0.100-bookworm-slim AS build
WORKDIR /src
COPY . .
ARG PROJECT
# The web space bundles its scanner script with npm + esbuild at build time (services/web/package.json).
RUN case "$PROJECT" in services/web/*) apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/* ;; esac
RUN dotnet publish "$PROJECT" -c Release -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0.0-bookworm-slim AS runtime
WORKDIR /app
COPY --from=build /app .
ARG ASSEMBLY
ENV ASPNETCORE_URLS=http://+:8080 \
    DOTNET_RUNNING_IN_CONTAINER=true \
    FIDPASS_ASSEMBLY=${ASSEMBLY}
EXPOSE 8080
# web's Data Protection key ring (DataProtection:KeysDirectory): a named volume mounted here starts
# with this directory's owner, so the non-root user below can write its keys.
RUN mkdir -p /var/lib/fidpass/keys && chown 1654:1654 /var/lib/fidpass/keys
# The aspnet image's non-root "app" user, by uid (its APP_UID): a numeric USER lets Kubernetes
# verify runAsNonRoot (deploy/k8s sets runAsUser: 1654 to match).
USER 1654
ENTRYPOINT ["sh", "-c", "exec dotnet \"$FIDPASS_ASSEMBLY.dll\""]
