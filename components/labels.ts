// Docker labels as @pulumi/docker takes them (a list of label/value pairs), for
// every resource of either runner component. Pure.

export function toLabels(labels: Readonly<Record<string, string>>): { label: string; value: string }[] {
    return Object.entries(labels).map(([label, value]) => ({ label, value }));
}
