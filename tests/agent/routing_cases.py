"""Phrasings a user might type to `vbot ask`, with the skill that should answer each.

Written the way people ask, including ones that share words with a wrong skill (marked "# trap").
"""

CASES = [
    # training-pipeline
    ("I just cloned this, where do I start?", "training-pipeline"),
    ("do a quick probe run to check training works", "training-pipeline"),
    ("train a policy on the flat disc for a couple million steps", "training-pipeline"),
    ("my training run was killed, continue it from where it stopped", "training-pipeline"),  # trap: campaign
    ("how fast is the simulator on this machine, env steps per second?", "training-pipeline"),
    ("render a picture of the scene", "training-pipeline"),
    ("which environments exist?", "training-pipeline"),
    ("evaluate my latest policy for 20 episodes", "training-pipeline"),
    ("I'm back after the weekend, what should I do next", "training-pipeline"),
    ("benchmark the trainer throughput", "training-pipeline"),
    ("continue training from a checkpoint at half the learning rate", "training-pipeline"),  # trap: reward, hp
    ("fine-tune the section012 policy at half the learning rate with mixed spawns", "training-pipeline"),  # trap: hp
    # training-campaign
    ("start a campaign that runs overnight with an 8 hour budget", "training-campaign"),
    ("start a 2-hour hyperparameter campaign", "training-campaign"),  # trap: "where do I start", hp
    ("the campaign crashed during the night, bring it back", "training-campaign"),
    ("is the automl process still alive?", "training-campaign"),
    ("how much of the budget has the campaign used", "training-campaign"),
    ("show me the trials table and the best trial so far", "training-campaign"),
    ("add a second machine as a worker with postgres", "training-campaign"),
    ("resume the campaign", "training-campaign"),
    ("many trials failed in my campaign, what do I read first", "training-campaign"),
    ("keep WAKE_UP.md updated while the campaign runs", "training-campaign"),
    ("what's the best checkpoint the campaign found", "training-campaign"),
    # hyperparameter-optimization
    ("tune the learning rate and entropy coefficient", "hyperparameter-optimization"),
    ("run an optuna hyperparameter search over PPO settings", "hyperparameter-optimization"),
    ("training is unstable, the policy std collapses", "hyperparameter-optimization"),
    ("which hyperparameters matter most? show parameter importance", "hyperparameter-optimization"),
    ("what gamma and GAE lambda should I use", "hyperparameter-optimization"),
    ("how many minibatches and epochs per update", "hyperparameter-optimization"),
    ("learning plateaus after 10M steps, sweep the hparams", "hyperparameter-optimization"),
    # reward-penalty-engineering
    ("the robot just stands still and never walks to the target", "reward-penalty-engineering"),
    ("a run never learns to walk, why", "reward-penalty-engineering"),  # trap: visual-debugging
    ("it sprints at the target and falls over", "reward-penalty-engineering"),
    ("return keeps going up but success does not", "reward-penalty-engineering"),
    ("audit my reward config before I train", "reward-penalty-engineering"),
    ("the robot hovers at the edge of the target and never enters the centre", "reward-penalty-engineering"),
    ("the termination penalty seems too large", "reward-penalty-engineering"),
    ("search the reward weights with automl", "reward-penalty-engineering"),  # trap: campaign / hp
    ("diagnose the reward of my latest training run", "reward-penalty-engineering"),  # trap: pipeline
    ("is the agent reward hacking?", "reward-penalty-engineering"),
    # curriculum-learning
    ("is it ready for the next stage?", "curriculum-learning"),
    ("advance the curriculum", "curriculum-learning"),
    ("move on to stairs after the flat ground", "curriculum-learning"),
    ("train with farther spawn distances step by step", "curriculum-learning"),
    ("warm start the next stage from the best checkpoint", "curriculum-learning"),  # trap: campaign
    ("success dropped after promoting to section011", "curriculum-learning"),
    # mjcf-xml-reasoning
    ("what are the joint limits of the calf?", "mjcf-xml-reasoning"),
    ("change the foot friction in the xml", "mjcf-xml-reasoning"),
    ("what PD gains do the actuators use", "mjcf-xml-reasoning"),
    ("how heavy is the robot and where is the base COM", "mjcf-xml-reasoning"),
    ("make the legs longer in the model", "mjcf-xml-reasoning"),
    ("which physics timestep does the simulation use", "mjcf-xml-reasoning"),
    ("torque limits of the hip and thigh motors", "mjcf-xml-reasoning"),
    # navigation-competition
    ("how many points can we score in the competition", "navigation-competition"),
    ("score my policy the way the competition does", "navigation-competition"),  # trap: pipeline
    ("what counts as reaching the inner fence", "navigation-competition"),
    ("which checkpoint should I submit", "navigation-competition"),  # trap: campaign
    ("record a video of the ten robots on the ring", "navigation-competition"),
    ("does a fall lose the points", "navigation-competition"),
    # visual-debugging
    ("show me what the robot is doing in an episode", "visual-debugging"),
    ("make a contact sheet of the latest policy", "visual-debugging"),
    ("I want to look at the gait, does it drag a leg?", "visual-debugging"),
    ("what does the robot look like when it falls over", "visual-debugging"),
    ("draw me a picture of one episode of the latest checkpoint", "visual-debugging"),  # trap: pipeline
    ("give me frames of an episode I can look at", "visual-debugging"),
]
