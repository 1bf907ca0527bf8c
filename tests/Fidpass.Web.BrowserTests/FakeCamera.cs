using System.Diagnostics;

namespace Fidpass.Web.BrowserTests;

/// <summary>
/// What Chromium's fake camera films (<c>--use-file-for-fake-video-capture</c>): a .y4m video made
/// with ffmpeg from a screenshot, as a phone held still in front of the till's camera would show it.
/// </summary>
public static class FakeCamera
{
    public const int Width = 640;
    public const int Height = 480;

    /// <summary>
    /// A few seconds of identical 640×480 frames (Chromium loops the file) holding the screenshot of
    /// a code, unscaled and centred on white, which adds to its quiet zone.
    /// </summary>
    public static async Task<string> VideoOfAsync(string png, string video)
    {
        await FfmpegAsync("-y", "-loop", "1", "-framerate", "10", "-i", png, "-t", "3",
            "-vf", $"pad={Width}:{Height}:(ow-iw)/2:(oh-ih)/2:white,format=yuv420p",
            "-pix_fmt", "yuv420p", video);
        return video;
    }

    private static async Task FfmpegAsync(params string[] args)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        await output;
        Assert.True(process.ExitCode == 0, await errors);
    }
}
