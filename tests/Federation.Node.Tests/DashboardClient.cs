using System.Net;
using System.Text.RegularExpressions;

namespace Federation.Node.Tests;

/// <summary>
/// A browser's side of a dashboard session, over plain HTTP: a cookie jar, and forms posted
/// with the antiforgery token the page gave. Redirects are not followed, so a test sees
/// where the node sends it.
/// </summary>
public sealed partial class DashboardClient : IDisposable
{
    private readonly HttpClient _http;

    public DashboardClient(string baseAddress)
    {
        _http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(baseAddress),
        };
    }

    /// <summary>The dashboard of a node started with a dashboard port.</summary>
    public static string AddressOf(TestNode node) => $"http://127.0.0.1:{node.Get<Microsoft.Extensions.Options.IOptions<Core.NodeOptions>>().Value.ResolvedDashboardPort}";

    public static async Task<DashboardClient> SignedInAsync(TestNode node, string token)
    {
        var client = new DashboardClient(AddressOf(node));
        var response = await client.PostFormAsync("/signin", "/signin", new() { ["token"] = token });
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"sign-in answered {(int)response.StatusCode}");
        return client;
    }

    public Task<HttpResponseMessage> GetAsync(string path) => _http.GetAsync(path);

    /// <summary>The page's HTML, asserting that it was served (not a redirect to sign in).</summary>
    public async Task<string> PageAsync(string path)
    {
        var response = await _http.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode} {response.Headers.Location}");
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Whether the node sends this session to sign in again rather than showing <paramref name="path"/>.</summary>
    public async Task<bool> SentToSignInAsync(string path)
    {
        var response = await _http.GetAsync(path);
        return response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.ToString().Contains("/signin", StringComparison.Ordinal) == true;
    }

    /// <summary>Posts a form of the page at <paramref name="formPage"/>, as a browser would after showing it.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string formPage, string action, Dictionary<string, string> fields)
    {
        var html = await (await _http.GetAsync(formPage)).Content.ReadAsStringAsync();
        var csrf = Csrf().Match(html);
        Assert.True(csrf.Success, $"no antiforgery field on {formPage}");
        fields["__csrf"] = WebUtility.HtmlDecode(csrf.Groups[1].Value);
        return await _http.PostAsync(action, new FormUrlEncodedContent(fields));
    }

    [GeneratedRegex("name=\"__csrf\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex Csrf();

    public void Dispose() => _http.Dispose();
}
