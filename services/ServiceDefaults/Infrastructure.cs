using JasperFx;
using JasperFx.OpenTelemetry;
using Marten;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Fidpass.ServiceDefaults;

/// <summary>Wiring of the two servers every service talks to: PostgreSQL (Marten) and RabbitMQ (MassTransit).</summary>
public static class Infrastructure
{
    public const string PostgresConnectionName = "postgres";
    public const string RabbitMqConnectionName = "rabbitmq";

    /// <summary>
    /// Marten on <c>ConnectionStrings:postgres</c>, in the service's own schema. The async daemon is
    /// woken by this process's own commits (<see cref="AppendWakeup"/>) and otherwise polls every
    /// 25 ms while events flow, 250 ms when idle (each poll also writes the daemon's progression), which
    /// keeps the relay latency at a few milliseconds without LISTEN/NOTIFY (it serialised every commit
    /// and woke every service's daemon). The async daemon runs in one replica at a time, elected by
    /// <see cref="DaemonLeader"/>; <c>Marten:Daemon=Disabled</c> keeps a host out of the election.
    /// </summary>
    public static MartenServiceCollectionExtensions.MartenConfigurationExpression AddFidpassMarten(
        this IHostApplicationBuilder builder, string schema, Action<StoreOptions> configure)
    {
        // Configuration is read when the store is built, not now, so test hosts can override it.
        var marten = builder.Services.AddMarten(services =>
            {
                var options = new StoreOptions();
                options.Connection(Tuned(services.GetRequiredService<IConfiguration>().GetConnectionString(PostgresConnectionName)
                    ?? throw new InvalidOperationException("ConnectionStrings:postgres is not configured.")));
                options.DatabaseSchemaName = schema;
                options.Events.DatabaseSchemaName = schema;
                options.Events.UseListenNotifyForEventAppends = false;
                var wakeup = new AppendWakeup();
                options.Listeners.Add(wakeup);
                options.Projections.Wakeup = wakeup;
                options.Projections.FastPollingTime = TimeSpan.FromMilliseconds(25);
                options.Projections.SlowPollingTime = TimeSpan.FromMilliseconds(250);
                options.Events.MetadataConfig.HeadersEnabled = true;
                options.Events.MetadataConfig.CorrelationIdEnabled = true;
                options.Events.MetadataConfig.CausationIdEnabled = true;
                options.OpenTelemetry.TrackConnections = TrackLevel.Normal;
                options.OpenTelemetry.TrackEventCounters();
                options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
                configure(options);
                return options;
            })
            .BuildSessionsWith<TracingSessionFactory>();

        // Schema migration at start-up; off only for hosts that must start without a database.
        if (builder.Configuration["Marten:ApplyChangesOnStartup"] is not "false")
        {
            marten.ApplyAllDatabaseChangesOnStartup();
        }

        if (!string.Equals(builder.Configuration["Marten:Daemon"], "Disabled", StringComparison.OrdinalIgnoreCase))
        {
            builder.Services.AddSingleton(services => new DaemonLeader(
                services.GetRequiredService<IDocumentStore>(),
                services.GetRequiredService<IConfiguration>().GetConnectionString(PostgresConnectionName)!,
                schema,
                services.GetRequiredService<Microsoft.Extensions.Logging.ILogger<DaemonLeader>>()));
            builder.Services.AddHostedService(services => services.GetRequiredService<DaemonLeader>());
        }

        return marten;
    }

    /// <summary>
    /// Npgsql settings for Marten's pattern of use:
    /// <list type="bullet">
    /// <item>No automatic preparation, whatever the connection string says. Npgsql 10 prepares a
    /// statement on its second use; when that use fails while PostgreSQL binds its parameters (a NUL
    /// character, a string jsonb refuses…), the statement stays "prepared" on that connection without
    /// the description of the rows it returns, and every later query of that shape on that pooled
    /// connection fails with "Received unexpected backend message DataRow". One client's bad value
    /// then broke valid requests at random (PoisonedConnectionTests).</item>
    /// <item>No reset when a connection goes back to the pool. Every session checks one out per query
    /// and per commit, and each return cost PostgreSQL a seven-statement reset (<c>RESET ALL; CLOSE ALL;
    /// UNLISTEN *; pg_advisory_unlock_all(); …</c>): 66 of the 144 statements it logged over four quiet
    /// seconds with one scan in them. Nothing here leaves state on a connection: no session settings,
    /// LISTEN, temporary tables or session-level advisory locks (the daemon's leader lock has its own
    /// connection outside the pool; migrations lock per transaction).</item>
    /// </list>
    /// </summary>
    internal static string Tuned(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 0 };

        if (!connectionString.Contains("No Reset On Close", StringComparison.OrdinalIgnoreCase))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// MassTransit on RabbitMQ (<c>ConnectionStrings:rabbitmq</c>, an <c>amqp://</c> URI). Queues are
    /// named after the service (<paramref name="queuePrefix"/>) so two services consuming the same
    /// event each get their own copy. Failed messages are retried, then moved to <c>*_error</c>
    /// queues (never dropped). <c>RabbitMq:QuorumQueues=true</c> declares the receive queues as quorum
    /// queues (production).
    /// </summary>
    public static IHostApplicationBuilder AddFidpassMessaging(
        this IHostApplicationBuilder builder, string queuePrefix, Action<IBusRegistrationConfigurator>? configure = null)
    {
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(queuePrefix, false));
            // MassTransit 8.4+ reports usage to usage-tracking.masstransit.io after start: a payment
            // system does not phone home (and the call only fails, with a warning, behind a firewall).
            bus.ConfigureUsageTelemetryOptions(telemetry => telemetry.Enabled = false);
            bus.AddConfigureEndpointsCallback((context, _, endpoint) =>
            {
                endpoint.UseMessageRetry(retry => retry.Intervals(50, 200, 1000, 3000));
                // Replicated on a RabbitMQ cluster (production); a single local broker keeps classic
                // queues. A queue's type is fixed when it is declared: see docs/operations.md.
                if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit
                    && string.Equals(context.GetRequiredService<IConfiguration>()["RabbitMq:QuorumQueues"], "true", StringComparison.OrdinalIgnoreCase))
                {
                    rabbit.SetQuorumQueue();
                }
            });
            configure?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(new Uri(context.GetRequiredService<IConfiguration>().GetConnectionString(RabbitMqConnectionName)
                    ?? throw new InvalidOperationException("ConnectionStrings:rabbitmq is not configured.")));
                rabbit.ConfigureEndpoints(context);
            });
        });
        builder.Services.AddHostedService<FaultCounterSeries>();

        return builder;
    }
}
