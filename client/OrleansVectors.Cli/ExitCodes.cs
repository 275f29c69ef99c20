namespace OrleansVectors.Cli;

/// <summary>The tool's exit codes, the one list of them (the README's "Exit codes" table copies it).</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>
    /// The command ran and failed: the cluster did not answer, the index or file was missing or malformed, the
    /// cluster refused the request, or <c>demo</c>'s answers differed from faiss's. One line on standard output says why.
    /// </summary>
    public const int Failed = 1;

    /// <summary>
    /// The command line is wrong (an unknown command or option, a missing or malformed value, a bad OVX_* variable):
    /// nothing was sent and no connection was made. Standard error says why and suggests the nearest valid name.
    /// </summary>
    public const int Usage = 2;

    /// <summary>
    /// Interrupted (Ctrl+C or SIGTERM): the command stopped, <c>kmeans</c> after cancelling its run on the cluster. A
    /// command that does not stop within <see cref="OvxCommandLine"/>'s grace is ended by System.CommandLine, with 130
    /// after Ctrl+C and 143 after SIGTERM.
    /// </summary>
    public const int Interrupted = 130;
}
