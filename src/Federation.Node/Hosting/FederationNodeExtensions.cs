using Federation.Contracts;
using Federation.Contracts.V1;
using Federation.Core;
using Federation.Core.Commands;
using Federation.Domain;
using Federation.Core.Identity;
using Federation.Core.Storage;
using Federation.Node.Dashboard;
using Federation.Node.Fediverse;
using Federation.Node.Grpc;
using Federation.Node.Observability;
using Federation.Node.Peering;
using Federation.Node.Security;
using Microsoft.Extensions.Options;

namespace Federation.Node.Hosting;

/// <summary>A whole node: one process, gRPC on Kestrel, its database, MassTransit's bus.</summary>
public static class FederationNodeExtensions
{
    /// <summary>
    /// The node's settings, Kestrel, logging and services. <paramref name="configure"/>
    /// adjusts the settings after configuration is read (tests shorten intervals with it).
    /// </summary>
    public static WebApplicationBuilder AddFederationNode(this WebApplicationBuilder builder, Action<NodeOptions>? configure = null)
    {
        builder.Services.Configure<NodeOptions>(builder.Configuration.GetSection("Node"));
        if (configure is not null)
        {
            builder.Services.PostConfigure(configure);
        }
        var options = builder.Configuration.GetSection("Node").Get<NodeOptions>() ?? new NodeOptions();
        configure?.Invoke(options);
        TransportPolicy.Check(options);
        StartupChecks.EnsureTimeZone(options);
        StartupChecks.EnsureNetworkKeyAlgorithm(options);
        // Before the data folder and the key are made: a node that cannot serve leaves nothing behind.
        StartupChecks.EnsurePortFree(options.Host, options.Port, "Node:Port", "--port");
        if (options.ResolvedDashboardPort > 0)
        {
            StartupChecks.EnsurePortFree(options.DashboardHost, options.ResolvedDashboardPort, "Node:DashboardPort", "--dashboard-port");
        }
        StartupChecks.EnsureDataFolderWritable(options.ResolvedDataDir);

        builder.UseFederationKestrel(options);
        builder.Logging.AddFederationLogging();
        builder.Services
            .AddFederationStorage()
            .AddFederationCore()
            .AddFederationDelivery()
            .AddFederationNotifications(builder.Configuration)
            .AddFederationTelemetry(builder.Configuration, options.Name);
        builder.Services
            .AddFederationGrpc(options)
            .AddFederationBus(options)
            .AddFederationDashboard(options)
            // Last, after everything that registers gRPC services: malformed request bytes get
            // INVALID_ARGUMENT with a clear message instead of UNKNOWN (see ReadableRequests).
            .AddReadableRequests();
        return builder;
    }

    /// <summary>
    /// The dashboard's branch, then the gRPC services; and opens the store and pins keys
    /// before serving, so the first call sees a ready node.
    /// </summary>
    public static WebApplication MapFederationNode(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<NodeOptions>>().Value;
        // Before any endpoint reads a body: peer callers are checked from their headers first.
        app.UseMiddleware<Grpc.PeerCallGate>();
        // Before the dashboard's branch, on its port: a fediverse server reaches only these paths.
        app.MapFediverse(options);
        app.MapFederationDashboard(options);
        app.MapFederationGrpc();
        if (TransportPolicy.Warning(options) is { } warning)
        {
            // Every start, so that a cleartext node never looks like a normal one in its logs.
            app.Logger.LogWarning("{Warning}", warning);
        }

        app.Services.GetRequiredService<IFederationStore>();
        app.Services.GetRequiredService<OperatorToken>();
        app.Services.GetRequiredService<PeerDirectory>().LoadPinnedKeys();
        app.Services.GetRequiredService<NodeKeys>().Load();
        UnlockAtStart(app, options);
        if (options.ResolvedDashboardPort > 0 && DashboardKeys.InDatabase(options))
        {
            DashboardKeys.EnsureKeyAsync(app.Services.GetRequiredService<DashboardServices>().Provider, CancellationToken.None).GetAwaiter().GetResult();
        }
        // Lets `solnet --data <folder>` find the node without being told its address, and
        // check (over TLS) that the node answering there is this one.
        File.WriteAllText(Path.Combine(options.ResolvedDataDir, "address"), options.ResolvedPublicAddress + "\n");
        File.WriteAllText(Path.Combine(options.ResolvedDataDir, "fingerprint"),
            app.Services.GetRequiredService<NodeIdentity>().Fingerprint + "\n");
        return app;
    }

    /// <summary>With Node:StoragePassphraseFile, unlocks the storage key (setting it up the first time) and seals what rests in clear.</summary>
    private static void UnlockAtStart(WebApplication app, NodeOptions options)
    {
        if (options.StoragePassphraseFile.Length == 0)
        {
            return;
        }
        if (!File.Exists(options.StoragePassphraseFile))
        {
            throw new NodeStartRefusedException(
                $"Node:StoragePassphraseFile names {options.StoragePassphraseFile}, which does not exist: create it, or leave the setting out and unlock with `solnet unlock`.");
        }
        var passphrase = File.ReadLines(options.StoragePassphraseFile).FirstOrDefault() ?? "";
        var vault = app.Services.GetRequiredService<Federation.Core.Sealing.StorageVault>();
        try
        {
            var sealedNow = app.Services.GetRequiredService<StorageLock>().UnlockAsync(passphrase, create: !vault.HasKey, CancellationToken.None).GetAwaiter().GetResult();
            if (sealedNow > 0)
            {
                app.Logger.LogInformation("Sealed {Count} confidential values that rested in clear.", sealedNow);
            }
        }
        catch (RuleViolation ex)
        {
            throw new NodeStartRefusedException($"Node:StoragePassphraseFile: {ex.Message}");
        }
    }

    // Loud while the network key rests on the server (issue 16 #1): whoever takes the
    // server could speak for the network for good.
    private static string NetworkKeyText(NodeIdentity id, DateTimeOffset now) => id.Current.Checked is { } c
        ? $"kept off this server; node key {Identifiers.ShortFingerprint(c.KeyId)} ({Federation.Contracts.Signatures.Name(id.Current.Algorithm)}) certified until {c.NotAfter:yyyy-MM-dd}"
            + (KeyRenewal.Reminder(c.NotAfter, now) is { } renew ? $"\n                  RENEW: {renew}" : "")
        : $"ON THIS SERVER ({Federation.Contracts.Signatures.Name(id.Algorithm)}): whoever takes it speaks for the network; move it off: `solnet network init`";

    /// <summary>What an operator needs to know at start-up: where the node is and how others add it.</summary>
    public static string FederationBanner(this WebApplication app)
    {
        var o = app.Services.GetRequiredService<IOptions<NodeOptions>>().Value;
        var id = app.Services.GetRequiredService<NodeIdentity>();
        var token = app.Services.GetRequiredService<OperatorToken>();
        var store = app.Services.GetRequiredService<IFederationStore>();
        return $"""

            Node '{o.Name}' is running (release {SoftwareVersion.Described}).
              gRPC address:   {o.ResolvedPublicAddress}
              transport:      {(o.Tls ? "TLS, certificate from the node key; peers must present theirs" : TransportPolicy.Warning(o) ?? "cleartext (loopback development; --tls for TLS)")}
              fingerprint:    {id.Fingerprint}
              network key:    {NetworkKeyText(id, app.Services.GetRequiredService<NodeClock>().UtcNow)}
              data folder:    {Path.GetFullPath(o.ResolvedDataDir)}
              database:       {store.Description}
              storage:        {StorageStateText.Describe(app.Services.GetRequiredService<Federation.Core.Sealing.StorageVault>().State)}
              operator token: {token.Path}
              dashboard:      {DashboardSetup.Address(o)}
              telemetry:      {TelemetrySetup.Describe(app.Configuration)}
            Another node's operator adds this one with:
              solnet --data <their data folder> peer add {o.ResolvedPublicAddress} {id.Fingerprint}

            """;
    }
}
