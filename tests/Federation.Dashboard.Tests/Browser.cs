using Microsoft.Playwright;

namespace Federation.Dashboard.Tests;

/// <summary>
/// One headless Chromium for the whole run: Debian's /usr/bin/chromium, driven by
/// Playwright's bundled driver. Playwright never downloads a browser here (it cannot).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: install Debian's chromium package (tests/run.sh does).");
        }
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        });
    }

    /// <summary>A fresh browser profile: its own cookies, as a different person's browser would have.</summary>
    public async Task<IPage> NewPageAsync(ViewportSize? viewport = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = viewport ?? new ViewportSize { Width = 1100, Height = 900 },
            Locale = "en-GB",
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}

/// <summary>What a person does in the dashboard, in a few words each.</summary>
public static class Dashboard
{
    public static async Task SignInAsync(this IPage page, DashboardNode node, string? token = null)
    {
        await page.GotoAsync(node.Dashboard + "/signin");
        await page.GetByLabel("Token").FillAsync(token ?? node.Token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    /// <summary>
    /// Delivery between nodes is asynchronous: reloads <paramref name="url"/> until
    /// <paramref name="text"/> shows in <paramref name="where"/>, or fails after the timeout.
    /// </summary>
    public static async Task ReloadUntilAsync(this IPage page, string url, string where, string text, int seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            await page.GotoAsync(url);
            var locator = page.Locator(where);
            if (await locator.CountAsync() > 0 && (await locator.First.InnerTextAsync()).Contains(text, StringComparison.Ordinal))
            {
                return;
            }
            if (DateTime.UtcNow > until)
            {
                Assert.Fail($"Timed out after {seconds}s waiting for '{text}' in {where} at {url}.");
            }
            await Task.Delay(250);
        }
    }

    public static async Task<string> FlashAsync(this IPage page) => await page.Locator(".flash").InnerTextAsync();

    public static async Task<string> RefusalAsync(this IPage page) => await page.Locator(".refusal").InnerTextAsync();

    /// <summary>Saves a screenshot when DASHBOARD_SCREENSHOTS names a folder (for the README's picture, docs/dashboard-inbox.png); otherwise does nothing.</summary>
    public static async Task ScreenshotAsync(this IPage page, string name)
    {
        var dir = Environment.GetEnvironmentVariable("DASHBOARD_SCREENSHOTS");
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, name + ".png"), FullPage = true });
        }
    }
}
