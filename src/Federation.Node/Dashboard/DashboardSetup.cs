using System.Net;
using Federation.Node.Hosting;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc.ApplicationParts;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Federation.Node.Dashboard;

/// <summary>
/// The web dashboard: server-rendered Razor Pages on their own HTTP/1.1 port, over the
/// same Application layer the gRPC delegate service uses. Everything here is wiring;
/// the rules stay in the domain.
/// </summary>
public static class DashboardSetup
{
    public static void Listen(KestrelServerOptions kestrel, NodeOptions options)
    {
        var port = options.ResolvedDashboardPort;
        if (port > 0)
        {
            // Browsers speak cleartext HTTP/1.1 only; the gRPC port is HTTP/2 only.
            kestrel.Listen(IPAddress.Parse(options.Host), port, l => l.Protocols = HttpProtocols.Http1);
        }
    }

    public static string Address(NodeOptions options) =>
        options.ResolvedDashboardPort > 0
            ? $"http://{options.Host}:{options.ResolvedDashboardPort}/  (sign in with the operator token)"
            : "off (Node:DashboardPort is 0)";

    public static void AddDashboard(IServiceCollection services, NodeOptions options)
    {
        var port = options.ResolvedDashboardPort;
        if (port == 0)
        {
            return;
        }
        // Browsers share cookies between ports of one host, so three nodes on 127.0.0.1
        // would overwrite each other's sign-in: every cookie name carries the port, unless
        // Node:DashboardCookie names it (replicas of one node behind one address).
        var cookie = options.DashboardCookie is { Length: > 0 } named ? named : $"solnet-{port}";
        if (DashboardKeys.InDatabase(options))
        {
            // Replicas share the database, so a cookie made at one opens at every other.
            DashboardKeys.AddSharedKeys(services);
        }
        else
        {
            // Keys in the node's own data folder: a restart keeps people signed in, and no
            // other node can read this one's cookies.
            var keys = Directory.CreateDirectory(Path.Combine(options.ResolvedDataDir, "dashboard-keys"));
            if (!OperatingSystem.IsWindows())
            {
                // Like operator.token: whoever reads these keys can forge a signed-in cookie.
                File.SetUnixFileMode(keys.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            services.AddDataProtection().PersistKeysToFileSystem(keys).SetApplicationName("solnet-dashboard");
        }
        // The keys are protected by the folder's permissions, as the operator token is (or
        // by who may read the database); the "no XML encryptor" warning would only be noise.
        services.Configure<LoggerFilterOptions>(o => o.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error));
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(c =>
        {
            c.Cookie.Name = cookie;
            c.Cookie.HttpOnly = true;
            c.Cookie.SameSite = SameSiteMode.Strict;
            c.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            c.LoginPath = "/signin";
            c.AccessDeniedPath = "/signin";
            c.ExpireTimeSpan = TimeSpan.FromHours(12);
            c.SlidingExpiration = true;
        });
        services.AddAuthorization();
        services.AddScoped<DashboardContext>();
        services.AddAntiforgery(a =>
        {
            a.Cookie.Name = cookie + "-csrf";
            a.Cookie.SameSite = SameSiteMode.Strict;
            a.FormFieldName = "__csrf";
        });
        services.AddRazorPages(o =>
            {
                o.RootDirectory = "/Dashboard/Pages";
                o.Conventions.AuthorizeFolder("/");
                o.Conventions.AllowAnonymousToPage("/SignIn");
            })
            .AddCookieTempDataProvider(t =>
            {
                t.Cookie.Name = cookie + "-msg";
                t.Cookie.SameSite = SameSiteMode.Strict;
            })
            .ConfigureApplicationPartManager(parts =>
            {
                // MVC looks for pages in the entry assembly, which is the test host when
                // tests build a node; name this assembly, once.
                var assembly = typeof(DashboardSetup).Assembly;
                if (!parts.ApplicationParts.OfType<AssemblyPart>().Any(p => p.Assembly == assembly))
                {
                    foreach (var part in ApplicationPartFactory.GetApplicationPartFactory(assembly).GetApplicationParts(assembly))
                    {
                        parts.ApplicationParts.Add(part);
                    }
                }
            });
    }

    public static void MapDashboard(WebApplication app, NodeOptions options)
    {
        var port = options.ResolvedDashboardPort;
        if (port == 0)
        {
            return;
        }
        app.Use(async (context, next) =>
        {
            // The dashboard answers on its own port only, and the gRPC services on theirs.
            // The local port is what the connection really used; a Host header can say anything.
            var onDashboardPort = context.Connection.LocalPort == port;
            var isDashboard = context.GetEndpoint()?.Metadata.GetMetadata<DashboardEndpoint>() is not null;
            if (onDashboardPort != isDashboard)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            if (onDashboardPort)
            {
                var h = context.Response.Headers;
                h.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
                h.XFrameOptions = "DENY";
                h.XContentTypeOptions = "nosniff";
                h["Referrer-Policy"] = "no-referrer";
                h.CacheControl = "no-cache, no-store"; // what antiforgery wants too, so it need not override it
                h.Pragma = "no-cache";
            }
            await next(context);
        });
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapRazorPages().WithMetadata(DashboardEndpoint.Instance);
        app.MapGet("/dashboard.css", () => Results.Text(Stylesheet.Value, "text/css; charset=utf-8"))
            .WithMetadata(DashboardEndpoint.Instance);
    }

    // One small stylesheet, compiled into the node so it is found wherever the node runs from.
    private static readonly Lazy<string> Stylesheet = new(() =>
    {
        using var stream = typeof(DashboardSetup).Assembly.GetManifestResourceStream("Federation.Node.Dashboard.dashboard.css")
            ?? throw new InvalidOperationException("dashboard.css is not embedded in the node.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}

/// <summary>Marks the endpoints that belong to the dashboard port.</summary>
public sealed class DashboardEndpoint
{
    public static readonly DashboardEndpoint Instance = new();
}
