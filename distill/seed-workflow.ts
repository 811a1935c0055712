// Round 1's workflow: one code-generation call, written in the format the meta-agent must produce.

export const SEED_GRAPH = `class Workflow:
    def __init__(self, name: str, llm_config, dataset) -> None:
        self.name = name
        self.dataset = dataset
        self.llm = create_llm_instance(llm_config)
        self.custom_code_generate = operator.CustomCodeGenerate(self.llm)

    async def __call__(self, problem: str, entry_point: str):
        solution = await self.custom_code_generate(problem=problem, entry_point=entry_point, instruction="")
        return solution['response'], self.llm.cost_manager.total_cost
`;

export const SEED_PROMPT = '# No custom prompts yet: add string constants here and use them as prompt_custom.NAME.\n';

export const SEED_MODIFICATION = 'Seed workflow: a single code-generation call.';
