using System.Net;
using System.Security.Cryptography.X509Certificates;
using Federation.Core;
using Federation.Core.Identity;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
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
            // On an interface of its own (loopback by default), HTTP/1.1 (the gRPC port is
            // HTTP/2 only); with TLS on, HTTPS, so a sign-in token never crosses in clear.
            kestrel.Listen(IPAddress.Parse(options.DashboardHost), port, l =>
            {
                l.Protocols = HttpProtocols.Http1;
                if (options.Tls)
                {
                    l.UseHttps(Certificate(options, kestrel.ApplicationServices));
                }
            });
        }
    }

    /// <summary>The operator's own certificate files if given, else the node's self-signed certificate.</summary>
    private static X509Certificate2 Certificate(NodeOptions options, IServiceProvider services)
    {
        if (options.DashboardCertificate.Length == 0)
        {
            return services.GetRequiredService<NodeIdentity>().Certificate;
        }
        // Checked at start by TransportPolicy, which says what is wrong with the files.
        return LoadCertificate(options);
    }

    /// <summary>The operator's certificate and key from their PEM files.</summary>
    public static X509Certificate2 LoadCertificate(NodeOptions options) =>
        X509Certificate2.CreateFromPemFile(options.DashboardCertificate,
            options.DashboardCertificateKey.Length > 0 ? options.DashboardCertificateKey : null);

    public static string Address(NodeOptions options) =>
        options.ResolvedDashboardPort > 0
            ? $"{(options.Tls ? "https" : "http")}://{options.DashboardHost}:{options.ResolvedDashboardPort}/  (sign in with the operator token)"
            : "off (Node:DashboardPort is 0)";

    /// <summary>
    /// Registers the dashboard's services in a container of their own, built at the first
    /// dashboard request (or at start-up where its keys live in the database): MVC, Razor
    /// Pages, authentication and antiforgery load about 25 assemblies and their types as soon
    /// as they are registered, about 13 MB of a node whose dashboard nobody opens (see
    /// docs/performance.md, "Idle memory"). The pages still get the node's own services,
    /// forwarded to the node's container (<see cref="DashboardServices"/>).
    /// </summary>
    public static IServiceCollection AddFederationDashboard(this IServiceCollection services, NodeOptions options)
    {
        if (options.ResolvedDashboardPort > 0)
        {
            services.AddSingleton(root => new DashboardServices(root, services, options));
        }
        return services;
    }

    /// <summary>The dashboard's own registrations, in its own container.</summary>
    internal static void AddDashboardServices(IServiceCollection services, NodeOptions options)
    {
        var port = options.ResolvedDashboardPort;
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
            // Secure whenever browsers come over HTTPS (the node's or a proxy's, which the node
            // sees as plain HTTP), so the cookie is never sent back in clear.
            c.Cookie.SecurePolicy = options.DashboardOverHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            c.LoginPath = "/signin";
            c.AccessDeniedPath = "/signin";
            // Idle sessions end soon; busy ones at the lifetime (DashboardSessions), and
            // every request checks that the token still stands.
            c.ExpireTimeSpan = options.DashboardSessionIdle;
            c.SlidingExpiration = true;
            c.Events.OnValidatePrincipal = DashboardSessions.ValidateAsync;
        });
        services.AddAuthorization();
        services.AddScoped<DashboardContext>();
        services.AddAntiforgery(a =>
        {
            a.Cookie.Name = cookie + "-csrf";
            a.Cookie.SameSite = SameSiteMode.Strict;
            a.Cookie.SecurePolicy = options.DashboardOverHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
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
                t.Cookie.SecurePolicy = options.DashboardOverHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
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
        // ASP.NET Core reads (or creates) the key ring at start-up in a hosted service, which
        // authentication and antiforgery each add again. Only signing in and forms need it,
        // so it is read at the first of those instead: a node whose dashboard nobody opens
        // never loads the XML stack for it. (Keys shared in the database are still made sure
        // of at start-up, by DashboardKeys.EnsureKeyAsync, so that replicas agree on the first.)
        foreach (var eager in services.Where(d => d.ServiceType == typeof(IHostedService)
            && d.ImplementationType?.Name == "DataProtectionHostedService").ToList())
        {
            services.Remove(eager);
        }
    }

    public static WebApplication MapFederationDashboard(this WebApplication app, NodeOptions options)
    {
        var port = options.ResolvedDashboardPort;
        if (port == 0)
        {
            return app;
        }
        // The dashboard answers on its own port only, and the gRPC services on theirs. The
        // local port is what the connection really used; a Host header can say anything.
        var services = app.Services.GetRequiredService<DashboardServices>();
        app.MapWhen(context => context.Connection.LocalPort == port, branch =>
        {
            // The dashboard's pipeline, with a route table of its own, is built at the first
            // dashboard request, not at start-up: mapping Razor Pages makes MVC scan the
            // node's types and load its assemblies at once, and a node whose dashboard nobody
            // has opened stays about 15 MB smaller without that (see docs/performance.md, "How the node is tuned").
            var pipeline = new Lazy<RequestDelegate>(() => Dashboard(new ApplicationBuilder(services.Provider), Stylesheet, options.DashboardOverHttps));
            branch.Run(async context =>
            {
                // The request's services are the dashboard's for the length of its pipeline.
                var node = context.RequestServices;
                await using var scope = services.Provider.CreateAsyncScope();
                context.RequestServices = scope.ServiceProvider;
                try
                {
                    await pipeline.Value(context);
                }
                finally
                {
                    context.RequestServices = node;
                }
            });
        });
        return app;
    }

    private static RequestDelegate Dashboard(IApplicationBuilder dashboard, Lazy<string> stylesheet, bool overHttps)
    {
        dashboard.Use(async (context, next) =>
        {
            // The application's own routing ran first and may have matched a gRPC route by
            // its path: on this port, only the dashboard's routes count.
            context.SetEndpoint(null);
            var h = context.Response.Headers;
            h.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
            h.XFrameOptions = "DENY";
            h.XContentTypeOptions = "nosniff";
            h["Referrer-Policy"] = "no-referrer";
            h.CacheControl = "no-cache, no-store"; // what antiforgery wants too, so it need not override it
            h.Pragma = "no-cache";
            if (overHttps)
            {
                // Browsers that have seen the dashboard over HTTPS never try it in clear again.
                h.StrictTransportSecurity = "max-age=31536000";
            }
            await next(context);
        });
        dashboard.UseRouting();
        dashboard.UseAuthentication();
        dashboard.UseAuthorization();
        dashboard.UseEndpoints(e =>
        {
            e.MapRazorPages();
            e.MapGet("/dashboard.css", () => Results.Text(stylesheet.Value, "text/css; charset=utf-8"));
        });
        return dashboard.Build();
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
