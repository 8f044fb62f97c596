using System.Xml.Linq;
using Federation.Core;
using Federation.Core.Storage;
using Federation.Node.Jobs;
using Federation.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;

namespace Federation.Node.Dashboard;

/// <summary>
/// The dashboard's cookie keys (ASP.NET Data Protection) in the node's database when it
/// is PostgreSQL, which every replica of the node shares: a cookie made at one replica
/// opens at every other, so replicas can stand behind one address. Whoever can read the
/// database can forge a sign-in, as whoever can read the data folder could before:
/// guard both alike. See https://learn.microsoft.com/aspnet/core/security/data-protection/configuration/overview
/// </summary>
public static class DashboardKeys
{
    private static readonly TimeSpan KeyLifetime = TimeSpan.FromDays(90);

    /// <summary>With SQLite (one process) the keys stay in the data folder, as they always have.</summary>
    public static bool InDatabase(NodeOptions options) => !options.Database.Equals(Stores.Sqlite, StringComparison.OrdinalIgnoreCase);

    public static void AddSharedKeys(IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("solnet-dashboard");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp => new ConfigureOptions<KeyManagementOptions>(
            o => o.XmlRepository = new DatabaseXmlRepository(sp.GetRequiredService<IFederationStore>())));
    }

    /// <summary>
    /// Makes sure the shared key ring has a usable key before the dashboard serves. Left to
    /// itself, each replica that finds no key makes its own on its first request, and
    /// until they re-read the ring (a day later) each opens only its own cookies. One
    /// replica at a time (a job lease) creates the key; the others wait and then read it.
    /// </summary>
    public static async Task EnsureKeyAsync(IServiceProvider services, CancellationToken ct)
    {
        var manager = services.GetRequiredService<IKeyManager>();
        var leases = services.GetRequiredService<JobLeases>();
        var deadline = DateTimeOffset.UtcNow + JobLeases.Term * 2;
        while (!HasUsableKey(manager) && DateTimeOffset.UtcNow < deadline)
        {
            if (await leases.HoldAsync(JobLeases.DashboardKey, ct))
            {
                try
                {
                    if (!HasUsableKey(manager))
                    {
                        var now = DateTimeOffset.UtcNow;
                        manager.CreateNewKey(now, now + KeyLifetime);
                    }
                }
                finally
                {
                    await leases.ReleaseAsync(JobLeases.DashboardKey, ct);
                }
                return;
            }
            await Task.Delay(200, ct);
        }
    }

    // Data Protection itself makes the next key ahead of time (it is activated two days
    // after it is made, by which time every replica has read it), so only the first one
    // needs this care.
    private static bool HasUsableKey(IKeyManager manager) =>
        manager.GetAllKeys().Any(k => !k.IsRevoked && k.ActivationDate <= DateTimeOffset.UtcNow && k.ExpirationDate > DateTimeOffset.UtcNow.AddDays(2));

    private sealed class DatabaseXmlRepository(IFederationStore store) : IXmlRepository
    {
        public IReadOnlyCollection<XElement> GetAllElements() => store.DashboardKeys().Select(x => XElement.Parse(x)).ToList();

        public void StoreElement(XElement element, string friendlyName) =>
            // Data Protection calls this synchronously; it is rare (a key every few months).
            store.WriteAsync(tx =>
            {
                tx.PutDashboardKey(string.IsNullOrEmpty(friendlyName) ? Guid.NewGuid().ToString("N") : friendlyName,
                    element.ToString(SaveOptions.DisableFormatting));
                return true;
            }).GetAwaiter().GetResult();
    }
}
