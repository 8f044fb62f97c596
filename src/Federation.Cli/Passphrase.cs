namespace Federation.Cli;

/// <summary>The backup passphrase: from a file, or asked at the terminal without echo; never an argument.</summary>
public static class Passphrase
{
    public static string Read(string file, bool confirm, string prompt = "Passphrase: ")
    {
        if (file.Length > 0)
        {
            if (!File.Exists(file))
            {
                throw new UsageException($"The passphrase file {file} does not exist.");
            }
            // The first line, without its line ending: `echo … > file` adds one.
            return File.ReadLines(file).FirstOrDefault() ?? "";
        }
        if (Console.IsInputRedirected)
        {
            throw new UsageException("No terminal to ask for the passphrase: give it in a file with --passphrase-file FILE.");
        }
        var first = Ask(prompt);
        if (confirm && Ask("The same again: ") != first)
        {
            throw new UsageException("The two passphrases differ; nothing was written.");
        }
        return first;
    }

    public static string Ask(string prompt)
    {
        Console.Error.Write(prompt);
        var text = new System.Text.StringBuilder();
        while (Console.ReadKey(intercept: true) is var key && key.Key != ConsoleKey.Enter)
        {
            if (key.Key == ConsoleKey.Backspace)
            {
                text.Length = Math.Max(0, text.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                text.Append(key.KeyChar);
            }
        }
        Console.Error.WriteLine();
        return text.ToString();
    }
}
