export declare const OLDEST_NODE: string;
export declare function nodeProblem(version: string, features: { typescript?: string | false } | undefined, execPath: string): string | null;
